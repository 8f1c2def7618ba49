"""The material library: console for content and compliance, sharing from the sidebar, tracked links."""
