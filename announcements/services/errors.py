"""The announcements' refusals: one error class, Chinese messages the tests reuse."""

from __future__ import annotations

from common.exceptions import ServiceError


class AnnouncementError(ServiceError):
    """A refused write on an announcement: nothing was saved."""


# §4: what each group is for.
ERROR_CATEGORY_NOT_ALLOWED = "{group}不允许发布“{category}”类内容（§4）。"
# §6.1: confidential matters stay in the confidential group.
ERROR_CONFIDENTIAL_TARGET = "机密内容只能发布在俊马管理群（§6.1），不能发到{group}。"
ERROR_NO_TARGETS = "请至少选择一个要发布的微信群。"
ERROR_TITLE_REQUIRED = "请填写标题。"
ERROR_BODY_REQUIRED = "请填写正文。"
ERROR_NOT_AUTHOR = "只有起草人可以这样做。"
ERROR_SYSTEM_AUTHOR = "系统起草公告时须指明起草人。"
ERROR_FORBIDDEN_MOVE = "公告“{title}”当前为“{current}”，不能改为“{target}”。"
ERROR_NOT_PENDING = "公告“{title}”当前为“{current}”，没有等待审批的环节。"
ERROR_OWN_ITEM = "不能审批自己起草的公告：请由其他审批人处理。"
ERROR_TWICE = "你已经审批过这份公告的一个环节，同一人不能审批两次：请由其他审批人处理。"
ERROR_NOT_YOUR_STEP = "这一环节应由{approver}审批，你不是审批人，也不是其有效期内的代理人。"
ERROR_SYSTEM_DECIDES = "审批须由审批人本人（或其代理人）处理，系统不能代为决定。"
ERROR_COMMENT_REQUIRED = "退回时请填写意见，说明需要如何修改。"
ERROR_WITHDRAW_APPROVED = "公告已经批准，不能再撤回。"
ERROR_NO_DEPARTMENT_HEAD = (
    "找不到{name}的部门负责人（向上各级部门也没有其他负责人，或负责人没有登录账号）："
    "请先在组织架构中设置。"
)
ERROR_NO_EMPLOYEE = "起草人没有员工档案，无法确定其部门负责人：请先在组织架构中关联登录账号。"
ERROR_POSTED_IN_FUTURE = (
    "发布时间不能晚于现在（最多允许 {minutes} 分钟的时钟误差）：请填写实际发到群里的时间。"
)
ERROR_NO_GROUP = "请选择发布的微信群。"
ERROR_NOT_TARGET = "{group}不是这份公告的发布群。"
ERROR_ALREADY_POSTED = "这份公告已登记在{group}发布。"
ERROR_NOT_APPROVED = "公告“{title}”当前为“{current}”，批准后才能登记发布。"
ERROR_MAY_NOT_PUBLISH = "只有起草人或人力资源部可以登记公告已发布。"
ERROR_NO_ACKNOWLEDGEMENT = "这份公告不需要确认，或尚未发布。"
ERROR_NOT_ADDRESSED = "这份公告不是发给你所在的群的。"
ERROR_NOT_YOURS_TO_ACKNOWLEDGE = "只能本人确认已阅。"
ERROR_NO_REVIEW = "这份公告不需要事后复核，或已经复核过。"
ERROR_MAY_NOT_REVIEW = "只有公司领导（起草人以外）可以复核应急公告。"
ERROR_DELEGATION_DATES = "代理的结束日期不能早于开始日期。"
ERROR_DELEGATION_SELF = "不能委托给自己。"
ERROR_DELEGATION_FORBIDDEN = "只能设置自己的代理（人力资源部可为任何审批人设置）。"
