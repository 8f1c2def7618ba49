"""SOP: plans operations write once and compliance approves, the tick that turns their steps into
advisors' tasks, the sidebar's 今日SOP and 工作台, reminders and figures."""
