"""A person's notices (pages/notices.py)."""

WORDS = {
    "notices.title": {"zh": "我的通知", "en": "My notices"},
    "notices.profile": {"zh": "个人邮箱（身份认证服务中的资料）",
                        "en": "My profile's e-mail address (identity provider)"},
    "notices.profile.none": {"zh": "资料中没有邮箱，或已停用", "en": "None in my profile, or turned off"},
    "notices.profile.use": {"zh": "通知也发送到我的个人邮箱（本单位登记的邮箱照常接收）",
                            "en": "Send notices to my profile's address too "
                                  "(my organisation's address still gets them)"},
    "notices.profile.save": {"zh": "保存", "en": "Save"},
    "notices.done.profile_on": {"zh": "通知将发送到您的个人邮箱。",
                                "en": "Notices will reach your profile's address."},
    "notices.done.profile_off": {"zh": "已停用并删除您的个人邮箱。",
                                 "en": "Your profile's address is turned off and deleted."},
    "notices.list": {"zh": "已记录的通知", "en": "Notices recorded"},
    "notices.when": {"zh": "时间", "en": "When"},
    "notices.subject": {"zh": "主题", "en": "Subject"},
    "notices.to": {"zh": "发送至", "en": "Sent to"},
    "notices.status": {"zh": "状态", "en": "Status"},
    "notices.status.pending": {"zh": "待发送", "en": "Pending"},
    "notices.status.sent": {"zh": "已发送", "en": "Sent"},
    "notices.status.parked": {"zh": "发送失败（待处理）", "en": "Not delivered (parked)"},
    "nav.notices": {"zh": "我的通知", "en": "My notices"},
}
