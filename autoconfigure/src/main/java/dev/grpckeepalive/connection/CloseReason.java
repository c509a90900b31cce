package dev.grpckeepalive.connection;

import java.util.Locale;

/**
 * Why a connection closed. Lower snake case in JSON and as the metric tag {@code reason}.
 * When several apply, a fixed precedence decides (documented in docs/actuator.md).
 */
public enum CloseReason {

	/** The server closed it after max-connection-idle without calls (GOAWAY max_idle). */
	MAX_IDLE,

	/** The server closed it at max-connection-age (GOAWAY max_age). */
	MAX_AGE,

	/** The server closed it because the client pinged more often than permitted (GOAWAY too_many_pings). */
	TOO_MANY_PINGS,

	/** A keepalive ping went unanswered for keepalive timeout: the peer or the path is gone. */
	KEEPALIVE_TIMEOUT,

	/** This application closed it: server or channel shutdown. */
	APP_REQUESTED,

	/** The peer sent a GOAWAY for another reason, with or without an error code. */
	PEER_GOAWAY,

	/** The peer closed the TCP connection without a GOAWAY. */
	PEER_CLOSED,

	/**
	 * A protocol or I/O error: bytes that are not HTTP/2, a GOAWAY this side sent with an error
	 * code, an exception, or (server) a client that did not complete the HTTP/2 handshake in time.
	 */
	ERROR,

	/**
	 * An HTTP/2 abuse limit of the server closed it: too many stream resets, a flood of PING
	 * ACKs, SETTINGS, empty DATA or WINDOW_UPDATE frames, or a CONTINUATION flood. The
	 * connection names the limit.
	 */
	ABUSE,

	/**
	 * An operator drained it: {@code DELETE /actuator/grpckeepalive/connections/{id}} or a
	 * rebalance. The server sent GOAWAY {@code drained} and closed it once its calls were done,
	 * or after the grace. A client sees the same reason in the GOAWAY's debug data.
	 */
	DRAINED;

	/** The lower snake case name, such as {@code too_many_pings}. */
	public String tag() {
		return name().toLowerCase(Locale.ROOT);
	}

}
