"""The service desk (服务台): requests and incidents routed to the team that looks after the
system and place (谁建设谁运维), on the clocks of their priority, escalated to the team above
when a clock runs out."""
