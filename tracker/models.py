"""All models, imported in one place so Alembic and the app see every table."""
from tracker.accounts.models import ApiToken, Device, LoginAttempt, User, UserArea
from tracker.audit.models import AuditEvent
from tracker.boundaries.models import AdminUnit, BoundarySet
from tracker.crosswalks.models import Crosswalk, CrosswalkLink
from tracker.households.models import (
    AssignmentDecision,
    Conflict,
    Household,
    HouseholdRevision,
    Photo,
    RevisionAssignment,
    SyncBatch,
    SyncCounter,
)
from tracker.jobs.models import Job
from tracker.openrosa.models import OpenRosaSubmission
from tracker.plans.models import Plan, PlanRevision, PlanTarget, ProgrammeResult
from tracker.progress.models import CommuneTally, TallyState

__all__ = [
    "AdminUnit", "ApiToken", "AssignmentDecision", "AuditEvent", "BoundarySet", "CommuneTally", "Conflict", "Crosswalk",
    "CrosswalkLink", "Device", "Household", "HouseholdRevision", "Job", "LoginAttempt", "OpenRosaSubmission", "Photo",
    "Plan", "PlanRevision",
    "PlanTarget", "ProgrammeResult", "RevisionAssignment", "SyncBatch", "SyncCounter", "TallyState", "User", "UserArea",
]
