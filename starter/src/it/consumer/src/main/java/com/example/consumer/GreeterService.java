package com.example.consumer;

import io.grpc.stub.StreamObserver;

import com.example.consumer.proto.GreeterGrpc;
import com.example.consumer.proto.HelloReply;
import com.example.consumer.proto.HelloRequest;

import org.springframework.stereotype.Service;

/** A gRPC service: being a {@code BindableService} bean is all it takes to be served. */
@Service
public class GreeterService extends GreeterGrpc.GreeterImplBase {

	@Override
	public void sayHello(HelloRequest request, StreamObserver<HelloReply> responseObserver) {
		responseObserver.onNext(HelloReply.newBuilder().setMessage("Hello, " + request.getName()).build());
		responseObserver.onCompleted();
	}

}
