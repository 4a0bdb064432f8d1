"""Drills: marked, scored rehearsals of the rollback, and the plan's own lifecycle
(quarterly drills, plan reviews, emergency contacts)."""
