// Package store keeps incidents in DynamoDB and applies each subscription
// delivery to them exactly once.
//
// # Table layout
//
// One table, hash key pk (S). An incident item has pk = incident_id and the
// attributes of incident.Incident (see the attr constants), and
// status_shard = "<status>#<NN>", NN a hash of the ID modulo StatusShards
// (16). The by-status-shard global secondary index (status_shard,
// last_seen) lists incidents by status, most recent first, each status
// spread over 16 partitions. Idempotency markers share the table: pk =
// "marker#<delivery>#<incident_id>", an expires_at TTL, and never an
// incident_id or status_shard attribute, so they never show up as
// incidents or in the index.
//
// # The index under a storm
//
// Every write that sets status (create, reopen, acknowledge, resolve) sets
// status_shard in the same request, so an incident is always in the shard
// of its status. The index projects the keys and the six short attributes
// that List, Changes, Stats and Find read there (incident_id, status,
// severity, log_group, occurrences, updated_at), not the template or
// sample message (up to 2,048 bytes each): an index entry is at most 741
// bytes (with a log group name of the maximum 512), so rewriting it costs
// one write unit, two when last_seen, its sort key, moves or the incident
// changes status (the index deletes the old entry and puts the new). An
// occurrence update changes occurrences and updated_at, so it rewrites the
// entry, but never more than that. With one partition key value per
// status, as the by-status index had, every OPEN incident's entry sat in
// one index partition, whose write capacity (about 1,000 units a second)
// a storm over many incidents could exhaust; a GSI that cannot keep up
// throttles the table's writes. The OPEN entries now spread over 16
// partitions, and one incident's entry takes no more writes than its item.
// The price is on the read side: a status is read with 16 queries (see
// Reading and updating).
//
// # Exactly-once effect
//
// CloudWatch Logs and Lambda deliver at least once, so Record must make a
// redelivered payload change nothing. For each chunk of up to 49 incidents
// of a delivery, Record:
//
//  1. reads the incidents and their markers in one consistent BatchGetItem;
//  2. skips every incident whose marker exists: that delivery was already
//     applied to it;
//  3. writes, for every remaining incident, its marker and its update in
//     one TransactWriteItems, the whole chunk at once.
//
// Every marker is conditioned on not existing, and a new incident's Put on
// not existing either. An existing incident is not rewritten whole and not
// conditioned on the version it read: its update adds the delivery's
// events to occurrences, and 1 to version, with ADD, which needs no
// condition, so that any number of deliveries of one incident can commit
// side by side. The other attributes change rarely, and each is set only
// when this delivery moves it, under a condition that keeps it monotonic
// whatever commits in between: last_seen (with the sample message and its
// log stream) only if the stored one is not later, first_seen only if the
// stored one is later, the severity only if the stored one is lower. A
// reopen is conditioned on the incident still being the RESOLVED one that
// was read, so exactly one delivery reopens it (and owns its alert), as
// exactly one creates a new incident; any other update of an incident read
// unresolved is conditioned on its not having been resolved since, so that
// events newer than a resolution always reopen it.
//
// The transaction commits all of a chunk or nothing, and a marker commits
// exactly when its incident's update does: that is what makes the effect
// exactly once. If a condition fails — a concurrent redelivery committed
// the same markers, a racing delivery moved last_seen past this one's, or
// a person resolved the incident — DynamoDB cancels the transaction and
// returns the items whose conditions failed (every write asks for them),
// and Record retries with what they say, without reading again: the
// markers it now sees are skipped, and a condition that failed is no
// longer needed or is computed afresh. (A cancellation that says less, or
// a failed read, makes it read again.) So a sequential,
// concurrent or partial redelivery (one chunk committed, a later one
// failed and Lambda retried) adds every event once, first_seen and
// last_seen are the min and max of event time, the severity never goes
// down, and a RESOLVED incident reopens on newer events once. When Record
// gives up it returns an error, Lambda retries, and after its retries the
// payload lands in the dead-letter queue: every event is counted once or
// is there.
//
// # What a delivery costs
//
// A delivery of up to 49 incidents costs one BatchGetItem and one
// TransactWriteItems (two items per incident, each under 1 KB: a
// transaction write costs two write units per item, so four per incident).
// In a storm on one incident the cost stays near that whatever the number
// of writers, since the counters never conflict: only a delivery whose
// last_seen a racing one overtook between its read and its write retries,
// with one more transaction. BenchmarkStorm (tests/) measures 2.0, 2.3 and
// 2.4 requests per delivery at 1, 6 and 24 concurrent writers.
//
// Markers live DefaultMarkerTTL (21 days), longer than the dead-letter
// queue keeps a payload (14 days), so a late redrive is still recognised.
//
// Retries are for races and throttling: a transaction cancelled because a
// condition failed, another transaction held an item (TransactionConflict)
// or an item was throttled is retried with jittered
// exponential backoff, up to DefaultMaxAttempts and never past a second
// before the context's deadline; any other cancellation reason
// (validation, size) is returned at once with its reason. A single-item
// write (an alert's claim or release, an acknowledgement or resolution)
// that DynamoDB answers with TransactionConflictException, because a
// transaction was writing the item at that moment, is retried the same way:
// the SDK's retryer retries neither. Throttled requests outside
// transactions are the SDK retryer's. When retries run out the delivery
// fails and Lambda retries it.
//
// A chunk of 20 incidents costs one BatchGetItem and one TransactWriteItems
// (40 items, of the 100 a transaction may hold).
//
// # Alerts
//
// Unless WithAlerts turns them off, a write that opens or reopens an
// incident gives its marker an alert attribute and a lease of AlertLease:
// the delivery whose transaction wrote it owns the alert. Announce owns the
// rest of the protocol; it takes the alerts Record returned and the
// function that publishes one, and for each:
//
//  1. claims it, unless this delivery created it: a conditional update of
//     its marker that takes the lease only while the alert is pending and
//     nobody holds a live lease on it;
//  2. publishes it, if at least publishMargin is left before the context's
//     deadline (enough to clear and release afterwards);
//  3. clears it at once (rewrites the marker without the alert), before
//     waiting on anything, so that a delivery waiting on it sees it done;
//  4. releases the claim if publishing failed, so that the redelivery can
//     claim it at once instead of after the lease.
//
// A failed publish makes Announce return an error; the delivery fails, the
// redelivery finds the marker with its alert still set, Record hands the
// alert out again, and Announce publishes it: an alert is published at
// least once, never lost. The lease makes it exactly once in the common
// race: several deliveries of one payload at once all see the pending
// alert, and only its owner publishes it. The others find it "held"
// (pending under a live lease) and wait, with backoff, until it is cleared,
// take it over when the lease runs out (its owner died), or, out of time,
// fail so that their delivery comes back; none treats a held alert as done.
// Only an owner that dies between publishing and clearing, or outlives its
// lease, can make an alert go out twice.
//
// # Alert storms
//
// A bad deploy can open hundreds of incidents in one log group within a
// minute. WithAlertGrouping(burst, window) groups their alerts the way
// Alertmanager does: at most burst alerts of a log group go out alone per
// window (aligned on the Unix epoch), and the rest of the window's go out
// together, in one digest message per log group and window, once the
// window has ended. Exactly-once still holds: every alert goes out once,
// alone or in one digest. Announce, after claiming, rations the alerts it
// won:
//
//  1. per log group, one UpdateItem ADDs their number to the window's
//     counter (pk "alertwin#<window start>#<group>", an expires_at TTL a
//     day after the window) and returns the new total; the alerts the
//     counter had room for under the burst go out alone as before, the
//     most severe and then the most frequent first. A slot whose publish
//     fails is spent: the retry of that alert is deferred instead.
//  2. the rest are deferred, up to 98 a TransactWriteItems: the digest
//     item (pk "digest#<window start>#<window end>#<group>") gets the
//     markers' keys ADDed to its markers set, conditioned on its not being
//     flushed, on no flusher's lease being on it (live, or run out: a
//     flusher that died leaves its lease until another takes it over), and
//     on its holding at most MaxDigestAlerts; each marker gets digest = the
//     digest's key and loses its lease, conditioned on the lease being
//     this caller's; and the digest's key is ADDed to a due item
//     (pk "alertdue#<NN>", NN a hash of the group modulo 16), where Flush
//     finds it. All or nothing: no marker ever names a digest that does
//     not list it, and no digest is ever unfindable. If the digest refuses
//     (a flusher has claimed it, or it is full), the chunk goes to the next
//     window's digest; a marker that refuses was taken over by another
//     delivery, which owns it now, and is left out. A cancellation that
//     names no usable reason makes each alert try alone.
//
// A marker with a digest attribute is the digest's: claim never takes it
// and Record never hands it out again, and a delivery that waits on an
// alert another holds counts it done once it is deferred, as once it is
// cleared.
//
// Flush, which the processor runs on a schedule, reads the 16 due items
// (one BatchGetItem) and, for each digest whose window has ended:
//
//  1. claims it with a lease of AlertLease (taking over a lease that ran
//     out: its flusher died), which also freezes its markers set, since
//     deferrals refuse a digest with a lease (a released lease opens it
//     again: the next claim reads whatever was added meanwhile);
//  2. reads its markers and keeps those that still carry their alert and
//     name this digest, and reads their incidents (consistent reads);
//  3. publishes them in one message, if publishMargin is left;
//  4. clears their markers, as for a single alert;
//  5. marks the digest flushed (conditioned on its lease) and takes its key
//     off the due item.
//
// A failed publish releases the lease and leaves the digest due: the next
// Flush publishes it, with the same alerts (and any deferred into it since
// the release); nothing is lost. As for single alerts, only a flusher that
// dies between publishing and clearing (or outlives its lease) can make
// alerts go out twice: the flusher that takes over publishes what was not
// cleared yet. A flusher that died after
// clearing finds nothing owed and only marks the digest flushed.
//
// What it costs: one UpdateItem per log group per Announce with alerts,
// one transaction per 98 deferred alerts (two write units per item), and
// per digest an UpdateItem, BatchGetItems for its markers and incidents, a
// BatchWriteItem per 25 alerts and two UpdateItems; an idle Flush costs
// one BatchGetItem of 16 keys.
//
// # Reading and updating
//
// Get and Find read one incident consistently. List, Changes, Stats and
// Watch query the status index, every shard of each status the Filter names
// (all three when it names none: 48 queries), four queries at a time,
// newest last_seen first, following every page, and merge the shards in
// last_seen order; with a Limit each shard is read up to the Limit and the
// merge cut to it. List and Changes then read the incidents they return
// from the table by key (BatchGetItem, up to 100 a request), since the index
// does not hold their sample message; Stats and Find need nothing but the
// index. They never scan the table, and markers, which have no status, are
// never in the index. The index is eventually consistent, so a write can
// take a moment to show there.
//
// MigrateIndex gives incidents written before the index was sharded their
// status_shard: it scans for incident items without one and sets it,
// conditioned on the status it was computed from.
//
// Acknowledge and Resolve read the incident, compute the new state
// (incident.Acknowledge, incident.Resolve), and write it conditioned on the
// version read, with the version bumped. If the processor or another person
// wrote in between, the condition fails and they read again, so no update
// is ever lost; Record, for its part, adds to the version, and its updates
// are conditioned on the incident not having been resolved since its read.
// A status change the current status does not allow (acknowledging a
// RESOLVED incident, resolving one twice) is refused with
// incident.ErrTransition and writes nothing.
package store
