from crm_servicekit.runtime import run_cli

from .app import build, create_app
from .config import MessengerSettings

if __name__ == "__main__":
    run_cli("crm_messenger", MessengerSettings(), create_app, build)
