"""The service classes by name: the one place that knows where each service lives."""

from importlib import import_module

SERVICE_CLASSES = {
    "intake": "services.intake.service:IntakeService",
    "verification": "services.verification.service:VerificationService",
    "review": "services.review.service:ReviewService",
    "publication": "services.publication.service:PublicationService",
    "documents": "services.documents.service:DocumentsService",
    "audit": "services.audit.service:AuditService",
    "notifications": "services.notifications.service:NotificationsService",
    # Not a service: the outbox relay alone, for deployments that run it apart (RELAY_IN_PROCESS=false).
    "relay": "services.relay.service:RelayService",
}


def service_class(name: str):
    module, _, attr = SERVICE_CLASSES[name].partition(":")
    return getattr(import_module(module), attr)
