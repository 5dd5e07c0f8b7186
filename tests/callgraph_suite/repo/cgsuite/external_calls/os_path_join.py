"""A function of a standard-library submodule called through the package."""

import os


def config_path(name):
    return os.path.join("etc", name)


config_path("app.toml")
