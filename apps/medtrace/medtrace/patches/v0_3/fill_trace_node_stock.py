from medtrace.traceability.trace_links import rebuild_node_stock


def execute():
	"""Trace Node Stock is new: fill it from the Trace Links already kept."""
	rebuild_node_stock()
