-- A steady-state pass that barely touches PostgreSQL (issue 24). Adds objects only: every
-- existing row stays as it is. Depends on nothing after migration 0011.
--
-- The client cuts the listing, in its order, into content-defined chunks of packages (a chunk
-- ends after a package whose id hashes to a boundary, so a package that arrives or leaves
-- changes one chunk, not every page after it) and digests each chunk's ids and fingerprints.
-- A chunk the mirror already holds, with the same ids in the same order and the same texts,
-- is sent as its digest alone; only the ids of the other chunks are sent, and the whole
-- package only where the mirror's fingerprint differs. See ARCHITECTURE.md ("The chunk index").

-- 1. The chunks of the last applied walk, each a claim that its members, in the mirror now,
--    have exactly the fingerprints the digest was taken over. A chunk is known by its anchor,
--    the id it starts with: the cut depends on ids alone, so a package whose text changes
--    changes its chunk's digest (one row here) and not which chunk its neighbours are in.
CREATE TABLE esim.listing_chunks (
    anchor         text PRIMARY KEY,
    digest         uuid NOT NULL UNIQUE,
    members_digest uuid NOT NULL UNIQUE,
    size           integer NOT NULL CHECK (size > 0)
);
COMMENT ON TABLE esim.listing_chunks IS 'esim-sync''s own index of the listing, not for reading: the content-defined chunks of the last applied walk whose members the mirror holds exactly as digested. A pass that lists such a chunk again sends only its digest.';
COMMENT ON COLUMN esim.listing_chunks.anchor IS 'The id of the chunk''s first package.';
COMMENT ON COLUMN esim.listing_chunks.digest IS 'XXH3-128 of the chunk''s package ids and text fingerprints, in listing order.';
COMMENT ON COLUMN esim.listing_chunks.members_digest IS 'XXH3-128 of the chunk''s package ids alone, in listing order: a chunk listed with other texts but the same members keeps its rows of esim.listing_chunk_members.';
COMMENT ON COLUMN esim.listing_chunks.size IS 'Packages in the chunk.';

-- 2. Every live package, once: in which stored chunk it is, or in none (NULL: the next pass
--    sends its id, so it is either seen or a removal candidate, as before this index existed).
CREATE TABLE esim.listing_chunk_members (
    package_id text PRIMARY KEY,
    anchor     text,
    position   integer
);
CREATE INDEX listing_chunk_members_anchor_idx ON esim.listing_chunk_members (anchor);
COMMENT ON TABLE esim.listing_chunk_members IS 'esim-sync''s own index, not for reading: a row per live package of esim.packages, naming the stored chunk (esim.listing_chunks) it belongs to, or NULL.';
COMMENT ON COLUMN esim.listing_chunk_members.package_id IS 'A live package (esim.packages.id).';
COMMENT ON COLUMN esim.listing_chunk_members.anchor IS 'The chunk the package was last listed in; NULL when it is in no stored chunk (not listed by the last walk, listed twice, or not yet chunked).';
COMMENT ON COLUMN esim.listing_chunk_members.position IS 'Its place in the chunk, from 0: with the chunk''s place in a walk, the sighting''s order (the later of two sightings of an id wins).';

-- 3. Whether the index must be built afresh before the next pass: any write to esim.packages
--    but a pass's own (a DBA's hand, a later migration) may make a chunk's claim false, so it
--    marks the index outdated, and the next pass starts from every live package in no chunk:
--    it sends every id (not every package) once, and cuts the chunks again. A statement
--    trigger: one call per statement, whatever it wrote, and nothing per row.
CREATE TABLE esim.listing_index (rebuild boolean NOT NULL);
INSERT INTO esim.listing_index VALUES (true);  -- this migration's: the first pass builds it
COMMENT ON TABLE esim.listing_index IS 'One row: whether the chunk index must be built afresh before the next pass (set by any write to esim.packages outside a pass).';
COMMENT ON COLUMN esim.listing_index.rebuild IS 'True after a write to esim.packages that no pass made.';

CREATE FUNCTION esim.listing_index_outdated() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    -- A pass sets esim.applying in its own transaction (SET LOCAL): its writes keep the index.
    IF current_setting('esim.applying', true) IS DISTINCT FROM 'on' THEN
        UPDATE esim.listing_index SET rebuild = true WHERE NOT rebuild;
    END IF;
    RETURN NULL;
END $$;
COMMENT ON FUNCTION esim.listing_index_outdated() IS 'Marks the chunk index outdated after a write to esim.packages that no pass made.';
CREATE TRIGGER packages_written_outside_a_pass
    AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE ON esim.packages
    FOR EACH STATEMENT EXECUTE FUNCTION esim.listing_index_outdated();

-- 4. What a pass cost the database's network: the listing's bytes as received, and what the
--    pass sent PostgreSQL (measured on the connection).
ALTER TABLE esim.sync_runs ADD COLUMN listing_bytes bigint, ADD COLUMN bytes_to_database bigint;
COMMENT ON COLUMN esim.sync_runs.listing_bytes IS 'Bytes of the listing''s JSON bodies the walk received (lookups not included).';
COMMENT ON COLUMN esim.sync_runs.bytes_to_database IS 'Bytes the pass sent to PostgreSQL, from staging to COMMIT, as TCP counted them (NULL over a Unix socket, which counts nothing).';
