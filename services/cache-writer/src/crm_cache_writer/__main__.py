from crm_servicekit.runtime import run_cli

from .app import build, create_app
from .config import CacheWriterSettings

if __name__ == "__main__":
    settings = CacheWriterSettings()
    run_cli(
        package="crm_cache_writer",
        settings=settings,
        create_app=lambda: create_app(settings),
        build=lambda: build(settings),
    )
