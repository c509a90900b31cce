package dev.grpckeepalive.server;

/** The gRPC server could not bind its port because something else holds it. */
public class GrpcServerPortInUseException extends IllegalStateException {

	private static final long serialVersionUID = 1L;

	private final int port;

	GrpcServerPortInUseException(int port, Throwable cause) {
		super("gRPC server port " + port + " is already in use", cause);
		this.port = port;
	}

	public int getPort() {
		return this.port;
	}

}
