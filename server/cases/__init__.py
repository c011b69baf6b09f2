"""One-window case tracking (一窗受理): 24-hour submissions, their path from 收件 to 归档, deadlines."""
