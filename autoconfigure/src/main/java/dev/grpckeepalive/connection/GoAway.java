package dev.grpckeepalive.connection;

/**
 * A GOAWAY frame seen on a connection.
 *
 * @param direction {@code sent} or {@code received}, from this application's point of view
 * @param errorCode the HTTP/2 error code
 * @param debugData the debug data, cut at 128 bytes
 * @param reason what the GOAWAY means: a close reason such as {@code max_age}, or
 * {@code error} for a non-zero error code, or {@code other}
 * @param atMillis when it was seen, epoch milliseconds
 */
public record GoAway(String direction, long errorCode, String debugData, String reason, long atMillis) {

	/** Direction of a GOAWAY this application sent. */
	public static final String SENT = "sent";

	/** Direction of a GOAWAY the peer sent. */
	public static final String RECEIVED = "received";

	/** Reason tag of a NO_ERROR GOAWAY whose reason is not known. */
	public static final String OTHER = "other";

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

}
