"""Emergency plans (应急预案) and drills (演练): plans at every level, enterprise plans filed
(备案) with the agency and reviewed, revision every three years flagged, drills planned,
recorded and evaluated, and their statistics."""
