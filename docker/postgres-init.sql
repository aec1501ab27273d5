-- One database each for Prefect's state, MLflow's tracking store and the consent portal.
CREATE DATABASE prefect;
CREATE DATABASE mlflow;
CREATE DATABASE portal;
