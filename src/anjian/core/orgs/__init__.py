"""Organisations (机构): agencies, coal-mine inspection bureaus, rescue teams, enterprises."""
