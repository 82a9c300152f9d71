"""Inspection checklists (排查清单) and self-inspection tasks (排查任务) of hidden-hazard
governance: rules (periods, task states), schemas, the checklist and task services, the API,
the Excel import, the console pages and the inbox source."""
