package dev.grpckeepalive.operate;

/** A rebalance request with a field that is missing or wrong: names the field, its value and the fix. */
public class InvalidRebalanceRequestException extends IllegalArgumentException {

	private static final long serialVersionUID = 1L;

	private final String field;

	private final String value;

	private final String fix;

	InvalidRebalanceRequestException(String field, String value, String fix) {
		super("\"" + field + "\" is " + value + ": " + fix);
		this.field = field;
		this.value = value;
		this.fix = fix;
	}

	/** The body field that is wrong, such as {@code shed}. */
	public String getField() {
		return this.field;
	}

	/** What is wrong with it: {@code missing}, or the value as given, quoted. */
	public String getValue() {
		return this.value;
	}

	/** What to send instead. */
	public String getFix() {
		return this.fix;
	}

}
