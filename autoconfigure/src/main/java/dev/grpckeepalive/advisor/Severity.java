package dev.grpckeepalive.advisor;

import java.util.Locale;

/** How bad a finding is. */
public enum Severity {

	/** Worth knowing; nothing fails because of it. */
	INFO,

	/** Something is wrong and will cost connections or calls if left as it is. */
	WARNING,

	/** Connections or calls are failing because of it now, or the configuration cannot work. */
	CRITICAL;

	/** The lower-case name used in JSON and as the metric tag {@code severity}. */
	public String tag() {
		return name().toLowerCase(Locale.ROOT);
	}

}
