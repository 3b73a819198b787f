"""Input data: contracts, import with quarantine, and the sample business."""

from streamwise.data.contracts import CONTRACTS, Column, Contract, get_contract
from streamwise.data.importer import ImportResult, import_data, import_file, import_files

__all__ = [
    "CONTRACTS",
    "Column",
    "Contract",
    "ImportResult",
    "get_contract",
    "import_data",
    "import_file",
    "import_files",
]
