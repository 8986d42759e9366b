from crm_servicekit.runtime import run_cli

from .app import build, create_app
from .config import CacheWriterSettings

if __name__ == "__main__":
    run_cli("crm_cache_writer", CacheWriterSettings(), create_app, build)
