-- One database each for Prefect's state and MLflow's tracking store.
CREATE DATABASE prefect;
CREATE DATABASE mlflow;
