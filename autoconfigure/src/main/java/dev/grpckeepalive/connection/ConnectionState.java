package dev.grpckeepalive.connection;

import java.util.Locale;

/** Where a connection is in its life. */
public enum ConnectionState {

	/** Open, with calls in flight. */
	ACTIVE,

	/** Open, without calls in flight. */
	IDLE,

	/** A GOAWAY was sent or received: no new calls, in-flight ones may finish. */
	DRAINING,

	/** The connection is gone. */
	CLOSED;

	public String tag() {
		return name().toLowerCase(Locale.ROOT);
	}

}
