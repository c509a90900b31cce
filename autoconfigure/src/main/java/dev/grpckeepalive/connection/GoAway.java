package dev.grpckeepalive.connection;

import java.util.Locale;

import org.jspecify.annotations.Nullable;

/**
 * A GOAWAY frame seen on a connection.
 *
 * @param direction whether this application sent it or received it
 * @param errorCode the HTTP/2 error code
 * @param debugData the debug data, cut at 128 bytes
 * @param reason what the GOAWAY means, as {@link CloseReasons} classifies it, or {@code null}
 * for a {@code NO_ERROR} GOAWAY whose reason is not known
 * @param atMillis when it was seen, epoch milliseconds
 */
public record GoAway(Direction direction, long errorCode, String debugData, @Nullable CloseReason reason,
		long atMillis) {

	/** Reason tag of a {@code NO_ERROR} GOAWAY whose reason is not known. */
	public static final String OTHER = "other";

	/** The reason as a tag: a close reason such as {@code max_age}, or {@value #OTHER}. */
	public String reasonTag() {
		return reasonTag(this.reason);
	}

	static String reasonTag(@Nullable CloseReason reason) {
		return (reason != null) ? reason.tag() : OTHER;
	}

	/** The HTTP/2 name of the error code, such as {@code ENHANCE_YOUR_CALM}. */
	public String errorName() {
		return errorName(this.errorCode);
	}

	static String errorName(long code) {
		String[] names = { "NO_ERROR", "PROTOCOL_ERROR", "INTERNAL_ERROR", "FLOW_CONTROL_ERROR", "SETTINGS_TIMEOUT",
				"STREAM_CLOSED", "FRAME_SIZE_ERROR", "REFUSED_STREAM", "CANCEL", "COMPRESSION_ERROR", "CONNECT_ERROR",
				"ENHANCE_YOUR_CALM", "INADEQUATE_SECURITY", "HTTP_1_1_REQUIRED" };
		return (code >= 0 && code < names.length) ? names[(int) code] : "0x" + Long.toHexString(code);
	}

	/** Who sent a GOAWAY, from this application's point of view. */
	public enum Direction {

		/** This application sent it. */
		SENT,

		/** The peer sent it. */
		RECEIVED;

		/** The lower-case name used in JSON and as the metric tag {@code direction}. */
		public String tag() {
			return name().toLowerCase(Locale.ROOT);
		}

	}

}
