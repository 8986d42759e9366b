from crm_servicekit.runtime import run_cli

from .app import build, create_app
from .config import AiSettings

if __name__ == "__main__":
    run_cli("crm_ai", AiSettings(), create_app, build)
