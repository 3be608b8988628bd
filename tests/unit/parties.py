"""The actors the unit tests use (sample identities, not real units or officials)."""

APPLICANT = {"sub": "u-applicant", "role": "applicant", "org": "91420100MA4K2XJ55T"}
CITY = {"sub": "u-wuhan", "role": "city", "org": "420100"}
PROVINCE = {"sub": "u-hubei", "role": "province", "org": "420000"}
MINISTRY = {"sub": "u-miit", "role": "ministry", "org": "MIIT"}
EXPERT = {"sub": "u-expert", "role": "expert", "org": "12100000400000624D"}
EVALUATOR = {"sub": "u-evaluator", "role": "evaluator", "org": "91110108MA01XXXX0K"}
PRIVACY = {"sub": "u-privacy", "role": "privacy", "org": "MIIT-PRIVACY"}
