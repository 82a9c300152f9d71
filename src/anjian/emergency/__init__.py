"""Emergency management (应急管理): emergency resources (应急资源) and the nearest of a kind,
response plans and drills (预案与演练), duty (值班值守), events with command and dispatch (事件与
指挥), and decision support: atmospheric dispersion and threat zones (扩散分析)."""
