"""A trace's genealogy as a tree for people to read, in the exports and the Batch Genealogy report.

The traced lot or serial number is the root, and every node sits under the node it was reached from
(backward: what it was made from; forward: what it went into). A genealogy is a graph, not a tree — a lot
goes into many products, a product is made from many lots — so a node's own branch is shown once, under
the first node that reached it level by level, and wherever else a link reaches it again it is a leaf
marked as shown elsewhere: the tree has a row per link, not per path, and stays as large as the trace.
Serial numbers of a traced batch sit under their batch. Nodes the kept links do not connect to the root
(an item filter drops the nodes in between) sit under the root, with their depth. A trace from a supplier,
supplier lot or customer has that as its root, and the lots and serial numbers it stands for under it.
"""

from collections import defaultdict

from medtrace.traceability.trace_links import node_key


def trace_tree(result: dict) -> list[dict]:
	"""Rows in display order: the node (as the trace describes it), its indent and parent row, the link that
	reached it (None for the root, serial numbers under their batch and unconnected nodes), and whether its
	branch is shown elsewhere."""
	nodes = {node["node"]: node for node in result["nodes"]}
	root = result["query"]["node"]
	start = result["query"]["start"]
	branches = branches_of(result, nodes, root)
	if start["root"]:
		nodes[root] = start["root"]
		branches[root] = [(key, None) for key in start["nodes"] if key in nodes] + branches[root]
	home = placements(root, branches)
	for key in sorted(set(nodes) - set(home), key=lambda key: (nodes[key]["depth"], key)):
		home[key] = root
		branches[root].append((key, None))

	rows, expanded = [], set()
	# Depth-first, with a stack rather than recursion: a tree is as deep as the trace and as wide as it is.
	stack = [(root, None, None, 0, None)]
	while stack:
		key, link, parent_row, indent, parent = stack.pop()
		repeat = key in expanded or (parent is not None and home[key] != parent)
		rows.append(
			{
				"row": len(rows),
				"parent_row": parent_row,
				"indent": indent,
				"node": nodes[key],
				"link": link,
				"shown_elsewhere": repeat,
			}
		)
		if not repeat:
			expanded.add(key)
			row = len(rows) - 1
			stack.extend((child, child_link, row, indent + 1, key) for child, child_link in reversed(branches[key]))
	return rows


def branches_of(result: dict, nodes: dict, root: str) -> dict[str, list]:
	"""Node → [(child, link or None)], children in the order their links were posted."""
	backward = result["query"]["direction"] == "backward"
	branches = defaultdict(list)
	for link in result["edges"]:
		parent, child = (link["to"], link["from"]) if backward else (link["from"], link["to"])
		branches[parent].append((child, link))
	for key, node in nodes.items():
		batch = node_key("Batch", node["lot"]) if node["doctype"] == "Serial No" else None
		if key != root and batch in nodes:
			branches[batch].append((key, None))
	return branches


def placements(root: str, branches: dict) -> dict[str, str | None]:
	"""Node → the node whose branch shows it: the first to reach it, breadth-first as the trace walked."""
	home = {root: None}
	level = [root]
	while level:
		reached = []
		for parent in level:
			for child, _link in branches[parent]:
				if child not in home:
					home[child] = parent
					reached.append(child)
		level = reached
	return home
