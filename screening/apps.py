from django.apps import AppConfig


class ScreeningConfig(AppConfig):
    """Exported group chats read in and screened by HR's rules (§5.2, §6.1, §9): hits become
    proposed cases through violations.case_propose, for HR to decide. Beside appraisal, above
    violations and groups (whose identity rules match the senders)."""

    name = "screening"
    label = "screening"
    verbose_name = "聊天内容筛查"
