"""Serving exported models: a TF Serving client (REST and gRPC) and a local server."""

from keras_gan_zoo.serving.client import Client
from keras_gan_zoo.serving.repository import ModelRepository, ServingError
from keras_gan_zoo.serving.server import LocalServer

__all__ = ["Client", "LocalServer", "ModelRepository", "ServingError"]
