"""The CRM tests' own fixture modules (crm_fixtures, hubspot_fixtures, fake_crm, hubspot_shape)
are imported by name: this folder is on the path for every test file in it, run alone or not."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
