"""Serving exported models: a TF Serving client (REST and gRPC) and a local server."""

from serving.client import Client
from serving.repository import ModelRepository, ServingError
from serving.server import LocalServer

__all__ = ["Client", "LocalServer", "ModelRepository", "ServingError"]
