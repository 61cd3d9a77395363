export {
  instanceUri,
  InvalidServiceInstanceError,
  parseInstance,
  parseUriSpec,
  serializeInstance,
  type ServiceInstance,
  type ServiceType,
  SPRING_CLOUD_ZOOKEEPER_INSTANCE_CLASS,
  type SpringCloudPayload,
  springCloudPayload,
  type UriSpec,
  type UriSpecPart,
} from './service-instance.js';
export {
  type PickStrategy,
  type RegisteredService,
  type ServiceRegistration,
  ServiceRegistry,
  type ServiceRegistryOptions,
  type ServiceUpdate,
} from './service-registry.js';
