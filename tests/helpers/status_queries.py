"""A status page's GraphQL reads as a client would send them (the documents the HTML page used
before it read the resolvers directly): the layout, and the figures — availability plus 90
daily bars with their events for every group and component. Cost limits must keep allowing
them on a 200-component page."""

LAYOUT = """
query Layout($slug: String!) {
  viewer { id email name isAdmin }
  page(slug: $slug) {
    id slug name description visibility timeZone sequence status statusDescription
    groups { id name description status components { ...Shown } }
    components { ...Shown group { id } }
  }
}
fragment Shown on Component { id name description status showcase onlyShowIfDegraded }
"""

BAR_FIELDS = ("availability { ratio } dailyBars { date status availability { ratio } "
              "events { id title kind } }")
FIGURES = f"""
query Figures($slug: String!) {{
  page(slug: $slug) {{
    groups {{ id {BAR_FIELDS} }}
    components {{ id {BAR_FIELDS} }}
  }}
}}
"""
