package dev.grpckeepalive.server;

import org.springframework.boot.diagnostics.AbstractFailureAnalyzer;
import org.springframework.boot.diagnostics.FailureAnalysis;

/** Explains a gRPC server port that is already taken, and how to pick another. */
class GrpcServerPortInUseFailureAnalyzer extends AbstractFailureAnalyzer<GrpcServerPortInUseException> {

	@Override
	protected FailureAnalysis analyze(Throwable rootFailure, GrpcServerPortInUseException cause) {
		return new FailureAnalysis("The gRPC server could not start: port " + cause.getPort()
				+ " is already in use by another process or another server in this application.",
				"Stop the process that listens on port " + cause.getPort()
						+ ", or set grpc.keepalive.server.port to a free port (0 picks one at random).",
				cause);
	}

}
