"""A nameko timer whose interval is one of the platform's settings, read when the service starts.

`@timer(interval=60)` fixes the interval when the class is defined; review's
overdue scan (OVERDUE_SCAN_INTERVAL) and publication's notice closing
(NOTICE_SCAN_INTERVAL) take it from `Settings` instead, so that an end-to-end
test can run a scan every half second while production keeps a minute.
"""

from nameko.timer import Timer

from shared.infra.config import Settings


class SettingsTimer(Timer):
    def __init__(self, setting: str, **kwargs):
        self.setting = setting
        super().__init__(interval=None, **kwargs)

    def setup(self) -> None:
        self.interval = float(getattr(Settings.from_nameko(self.container.config), self.setting))
        super().setup()


settings_timer = SettingsTimer.decorator
