package dev.grpckeepalive.advisor;

import java.time.Instant;

import dev.grpckeepalive.connection.Side;

/**
 * One diagnosis, as the advisor holds it now: what is wrong, since when, how often it was
 * seen, the measured evidence and the fix. Immutable.
 *
 * @param type the kind of finding
 * @param severity how bad it is
 * @param side the side it concerns
 * @param channel the channel name, {@code server} for the server
 * @param subject what the finding is about within the channel (a client's user agent, a
 * property), so that a channel can have several findings of one type
 * @param summary what is wrong, in one sentence
 * @param firstSeen when the evidence was first seen (within the window)
 * @param lastSeen when the latest evidence was seen
 * @param occurrences how many pieces of evidence were seen
 * @param evidence the measured figures, and a few example connection ids: the record of its type
 * @param recommendation the fix
 * @param persistent whether it holds as long as the configuration does (found at startup), rather than expiring
 */
public record Finding(FindingType type, Severity severity, Side side, String channel, String subject, String summary,
		Instant firstSeen, Instant lastSeen, long occurrences, Evidence evidence,
		Recommendation recommendation, boolean persistent) {

}
