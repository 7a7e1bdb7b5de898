"""The GraphQL documents the console's server-rendered views read (writes go from the browser)."""

from __future__ import annotations

VIEWER = "viewer { id email name isAdmin }"

HOME = f"""
query ConsoleHome {{
  {VIEWER}
  pages {{ id slug name visibility timeZone status statusDescription }}
}}
"""

PAGE = f"""
query ConsolePage($slug: String!) {{
  {VIEWER}
  page(slug: $slug) {{
    id slug name description visibility timeZone language allowVisitorLanguage status
    statusDescription domains logoUrl accentColor
    groups {{ id name description position status components {{ id }} }}
    components {{ id name description position status since group {{ id name }} }}
    active: events(state: ACTIVE, first: 50) {{ nodes {{ id kind status title startedAt }} }}
    upcoming: events(state: UPCOMING, first: 50) {{
      nodes {{ id kind status title scheduledStart scheduledEnd }}
    }}
    past: events(state: PAST, first: 20) {{ nodes {{ id kind status title startedAt endedAt }} }}
  }}
}}
"""

TEMPLATES = """
query ConsoleTemplates($pageId: ID!) {
  templates(pageId: $pageId) {
    id kind name title message status components { impact component { id name } }
  }
}
"""

EVENT = f"""
query ConsoleEvent($id: ID!) {{
  {VIEWER}
  event(id: $id) {{
    id kind status title startedAt endedAt scheduledStart scheduledEnd retrospective cancelled
    components {{ impact component {{ id name }} }}
    updates {{ id at status message notify components {{ impact component {{ id name }} }} }}
    page {{ id slug name timeZone components {{ id name group {{ name }} }} }}
  }}
}}
"""

PAGE_HEAD = f"""
query ConsolePageHead($slug: String!) {{
  {VIEWER}
  page(slug: $slug) {{ id slug name timeZone visibility
    groups {{ id name }} components {{ id name group {{ id name }} }} }}
}}
"""

SUBSCRIBERS = """
query ConsoleSubscribers($pageId: ID!, $slug: String!) {
  subscribers(pageId: $pageId, first: 100) {
    totalCount
    nodes { id channel email state componentIds eventId createdAt confirmedAt unsubscribedAt }
  }
  page(slug: $slug) { subscribeBudget { limit sentThisHour resetsAt } }
}
"""

DELIVERIES = """
query ConsoleDeliveries($pageId: ID!) {
  deliverySummary(pageId: $pageId) {
    pending sent failed waitingQuota cancelled emailQuota { limit used waiting }
  }
  deliveries(pageId: $pageId, first: 100) {
    totalCount
    nodes { id kind status attempts lastError nextAttemptAt sentAt createdAt
      subscriber { id email channel } }
  }
}
"""

USERS = f"""
query ConsoleUsers {{
  {VIEWER}
  users {{ id email name isAdmin isActive roles {{ id role allPages pageId }} }}
  pages {{ id slug name }}
}}
"""

TOKENS = """
query ConsoleTokens {
  viewer { id email name isAdmin apiTokens { id name prefix createdAt lastUsedAt revokedAt } }
}
"""

IM = f"""
query ConsoleIm {{
  {VIEWER}
  directMessageProviders
  imDestinations {{ id provider name webhookHost hasSecret direct createdAt
    subscriptions {{ id pageId componentIds eventId createdAt }} }}
  pages {{ id slug name visibility components {{ id name group {{ id name }} }} }}
}}
"""


def im_events(count: int) -> str:
    """The titles of the events that `count` IM subscriptions follow (variables e0, e1, …)."""
    params = ", ".join(f"$e{i}: ID!" for i in range(count))
    fields = " ".join(f"e{i}: event(id: $e{i}) {{ id title }}" for i in range(count))
    return f"query ConsoleImEvents({params}) {{ {fields} }}"

AUTOMATION = """
query ConsoleAutomation($pageId: ID!) {
  integrations(pageId: $pageId) {
    id name kind webhookUrl tokenPrefix createdAt lastUsedAt revokedAt
  }
  automationRules(pageId: $pageId) {
    id name position enabled matchers { label op value } componentIds componentLabel impact
    impactLabel impactMap { value impact } titleTemplate notify openAfterSeconds
    resolveAfterSeconds humanWins incident { id title status }
  }
}
"""
