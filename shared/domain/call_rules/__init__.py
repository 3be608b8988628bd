"""Calls as the ministries define them: data, validated, versioned. No nameko, no HTTP, no SQL.

A call (征集/揭榜通知) is a JSON document, not code. The two shipped ones live in
`shared/domain/calls/*.json`; every value in them is taken from the notice's text (the
`source` and `text` fields quote it), and whatever the notice leaves unsaid is null or
empty with a `note`.

Where to find what:

- schema.py: the whole call's schema (`CallDefinitionSchema`), `load_call` and `to_json`;
- programs.py: the program's own section (揭榜挂帅 tasks and consortia, 标志性产品 domains),
  and the questions about directions (`accepts_applications`, `require_direction`);
- levels.py: the chain of levels an application passes and each level's deadline, with the
  one reading of "于X月X日前" (`chain_for`, `deadline_for`, `end_of_notice_day`);
- fields.py: the schema's building blocks (notice dates, chains, strict sections);
- amendments.py: `amend`, the next version of a call;
- shipped.py: `load_shipped`, the calls the platform ships.

The limits on places a call sets (recommendation quotas, shortlist and success limits)
are read by `shared.domain.places`; reference data that is not in the notices (region
codes, the 计划单列市) is in `shared.domain.regions`.

This module is the calls' public face: the services import from here.
"""

from shared.domain.call_rules.amendments import amend
from shared.domain.call_rules.levels import LEVELS, SHANGHAI, chain_for, deadline_for, end_of_notice_day
from shared.domain.call_rules.programs import accepts_applications, require_direction
from shared.domain.call_rules.schema import CallDefinitionSchema, load_call, to_json
from shared.domain.call_rules.shipped import load_shipped

__all__ = [
    "LEVELS", "SHANGHAI", "CallDefinitionSchema", "accepts_applications", "amend", "chain_for", "deadline_for",
    "end_of_notice_day", "load_call", "load_shipped", "require_direction", "to_json",
]
