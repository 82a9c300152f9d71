"""Demo data (演示数据): a realistic province for trying the platform out.

``anjian demo`` loads agencies at every tier, coal-mine inspection bureaus, rescue teams, a few
hundred enterprises placed in real counties, their dual-prevention, accident, enforcement,
monitoring and emergency-management records, and one demo user per tier, all in one unit of
work. The generated data is deterministic: the same seed gives the same province."""

from anjian.demo.loader import DEMO_PASSWORD, DemoLogin, DemoResult, demo_contents, load_demo

__all__ = ["DEMO_PASSWORD", "DemoLogin", "DemoResult", "demo_contents", "load_demo"]
