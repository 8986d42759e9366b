from crm_servicekit.runtime import run_cli

from .app import build, create_app
from .config import GatewaySettings

if __name__ == "__main__":
    run_cli("crm_gateway", GatewaySettings(), create_app, build)
