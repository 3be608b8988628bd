"""The application forms (申请表) applicants fill in, as marshmallow schemas built from a call.

- `signature_product`: the 生物制造标志性产品申请表 of 382号, `signature_product_schema(domains,
  types)`; its parts in `signature_product_applicant` (cover, 一, 三) and
  `signature_product_details` (二).
- `open_competition`: the 揭榜挂帅 application of 220号, `open_competition_schema(category,
  directions)`; its task categories in `open_competition_tasks`, its units in
  `open_competition_units`.
- What both are built of: `fields` and `identifiers` (credit codes, documents, mobiles,
  emails), `parts` (the base schema and conditional rules), `messages` (bilingual).
- `samples`: SAMPLE applications to both and the evidence files they name.
"""
