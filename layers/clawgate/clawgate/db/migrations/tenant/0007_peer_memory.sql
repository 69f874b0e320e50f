-- Memory written in a customer's conversation belongs to that customer: one note file per agent and peer, loaded
-- into that peer's own prompts and never into an operator-profile prompt (tools: memory_note).
CREATE TABLE IF NOT EXISTS peer_memories (
    agent_id   text NOT NULL REFERENCES agents (id) ON DELETE CASCADE,
    channel    text NOT NULL,
    peer_id    text NOT NULL,
    content    text NOT NULL DEFAULT '',
    updated_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (agent_id, channel, peer_id)
);

-- Until now a customer's turn could append to the agent-wide MEMORY.md, which operator-profile prompts load. What the
-- agent wrote there cannot be told apart: it moves to MEMORY.unverified.md, which no prompt loads (an operator can
-- read it with workspace_read and keep what is theirs), and MEMORY.md starts again from its template.
INSERT INTO workspace_files (agent_id, name, content, updated_at, updated_by)
SELECT agent_id, 'MEMORY.unverified.md', content, updated_at, 'agent'
FROM workspace_files WHERE name = 'MEMORY.md' AND updated_by = 'agent'
ON CONFLICT (agent_id, name) DO NOTHING;
DELETE FROM workspace_files WHERE name = 'MEMORY.md' AND updated_by = 'agent';
