"""Review's own table: the cases with the ministry, and who evaluates them."""

import sqlalchemy as sa

from shared.projection import case_summary_table, project_case_summary

metadata = sa.MetaData()

review_cases = case_summary_table(
    "review_cases", metadata,
    sa.Column("evaluator", sa.String(32), nullable=True, index=True),
)


def _evaluator(event: dict, row) -> dict:
    if event["type"] == "EvaluatorCommissioned":
        return {"evaluator": event["payload"]["evaluator"]}
    return {}


def project(session, event: dict) -> None:
    project_case_summary(review_cases, session, event, _evaluator)
