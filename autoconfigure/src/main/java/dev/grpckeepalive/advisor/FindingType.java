package dev.grpckeepalive.advisor;

import java.util.List;

import dev.grpckeepalive.connection.Side;

/**
 * The kinds of finding the advisor makes. Each has a stable {@link #tag()}, the sides it
 * can concern and the severities it can have: the metric
 * {@code grpc.keepalive.advice.findings} has one series per tracker for each.
 */
public enum FindingType {

	/** Clients send PINGs sooner than the server's permit-time (or without calls where that is not permitted). */
	CLIENTS_PING_TOO_OFTEN("clients_ping_too_often", List.of(Side.SERVER), Severity.WARNING, Severity.CRITICAL),

	/** The server told this channel it pings too often (GOAWAY too_many_pings); grpc-java doubled its keepalive time. */
	CHANNEL_PINGS_TOO_OFTEN("channel_pings_too_often", List.of(Side.CLIENT), Severity.WARNING),

	/** The keepalive timeout leaves little margin over the PING round trips measured. */
	TIMEOUT_CLOSE_TO_RTT("timeout_close_to_rtt", List.of(Side.SERVER, Side.CLIENT), Severity.WARNING,
			Severity.CRITICAL),

	/** A channel's keepalive settings cannot work against this application's own server. */
	KEEPALIVE_CONFLICT("keepalive_conflict", List.of(Side.CLIENT), Severity.CRITICAL),

	/** grpc-java applies a different value than the one configured. */
	VALUE_CLAMPED("value_clamped", List.of(Side.SERVER, Side.CLIENT), Severity.INFO),

	/** Connections die after a silence, without a GOAWAY: something on the path drops idle connections. */
	IDLE_CONNECTIONS_DROPPED("idle_connections_dropped", List.of(Side.SERVER, Side.CLIENT), Severity.WARNING),

	/** A channel without keepalive lost connections, with calls in flight, after a silence. */
	NO_KEEPALIVE_ON_IDLE_PATH("no_keepalive_on_idle_path", List.of(Side.CLIENT), Severity.WARNING),

	/** max-connection-age-grace ran out while calls were still running: they were cut. */
	GRACE_TOO_SHORT("grace_too_short", List.of(Side.SERVER), Severity.WARNING),

	/** Connections closed by an HTTP/2 abuse limit (close reason abuse). */
	ABUSIVE_CLIENTS("abusive_clients", List.of(Side.SERVER), Severity.WARNING);

	private final String tag;

	private final List<Side> sides;

	private final List<Severity> severities;

	FindingType(String tag, List<Side> sides, Severity... severities) {
		this.tag = tag;
		this.sides = sides;
		this.severities = List.of(severities);
	}

	/** The stable name used in JSON and as the metric tag {@code type}. */
	public String tag() {
		return this.tag;
	}

	/** Whether findings of this type can concern this side. */
	public boolean concerns(Side side) {
		return this.sides.contains(side);
	}

	/** The severities findings of this type can have. */
	public List<Severity> severities() {
		return this.severities;
	}

}
