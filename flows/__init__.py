"""flows: Prefect flows, the CLI, typed settings, the audit log. Thin: it wires the packages.

OpenMP threads that spin while waiting (libgomp's default) fight polars' and BLAS's
threads for the two cores of our machines; scikit-learn's gradient boosting then ran 40
to 70 times slower here. Waiting passively costs nothing measurable, so every entry point
(the CLI, Prefect deployments, the tests) goes through this package first and sets it
before scikit-learn starts its thread pool.
"""

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
