package dev.grpckeepalive.connection;

import java.util.Locale;

/** Which end of its connections a tracker sees. */
public enum Side {

	/** The gRPC server: connections its clients opened. */
	SERVER,

	/** A channel: connections it opened to its target. */
	CLIENT;

	/** The lower-case name used in JSON and as the metric tag {@code side}. */
	public String tag() {
		return name().toLowerCase(Locale.ROOT);
	}

}
