package dev.grpckeepalive.test;

import io.grpc.Status;
import io.grpc.StatusRuntimeException;

/** The status a blocking call ended with, as a value rather than an exception. */
public final class CallStatus {

	private CallStatus() {
	}

	/** Runs {@code call}: {@link Status#OK} if it returns, its status if it throws one. */
	public static Status of(Runnable call) {
		try {
			call.run();
			return Status.OK;
		}
		catch (StatusRuntimeException ex) {
			return ex.getStatus();
		}
	}

}
