package serving

// Label and annotation keys of serving.knative.dev (pkg/apis/serving/register.go).
const (
	GroupName = "serving.knative.dev"

	ServiceLabelKey                 = GroupName + "/service"
	ServiceUIDLabelKey              = GroupName + "/serviceUID"
	ConfigurationLabelKey           = GroupName + "/configuration"
	ConfigurationUIDLabelKey        = GroupName + "/configurationUID"
	ConfigurationGenerationLabelKey = GroupName + "/configurationGeneration"
	RevisionLabelKey                = GroupName + "/revision"
	RevisionUIDLabelKey             = GroupName + "/revisionUID"
	RouteLabelKey                   = GroupName + "/route"
	RouteNamespaceLabelKey          = GroupName + "/routeNamespace"
	RoutingStateLabelKey            = GroupName + "/routingState"

	RoutesAnnotationKey                      = GroupName + "/routes"
	RoutingStateModifiedAnnotationKey        = GroupName + "/routingStateModified"
	CreatorAnnotation                        = GroupName + "/creator"
	UpdaterAnnotation                        = GroupName + "/lastModifier"
	RevisionLastPinnedAnnotationKey          = GroupName + "/lastPinned"
	RolloutDurationKey                       = GroupName + "/rollout-duration"
	RolloutDurationLegacyKey                 = GroupName + "/rolloutDuration"
	ProgressDeadlineAnnotationKey            = GroupName + "/progress-deadline"
	NoGCAnnotationKey                        = GroupName + "/no-gc"
	LastAppliedConfigurationAnnotation       = "kubectl.kubernetes.io/last-applied-configuration"
	QueueSidecarResourcePercentageKey        = "queue.sidecar." + GroupName + "/resource-percentage"
	VisibilityLabelKey                       = "networking.knative.dev/visibility"
	VisibilityClusterLocal                   = "cluster-local"
	IngressClassAnnotationKey                = "networking.knative.dev/ingress.class"
	DefaultIngressClass                      = "istio.ingress.networking.knative.dev"
	RolloutAnnotationKey                     = "networking.internal.knative.dev/rollout"
	AppLabelKey                              = "app"
	UserContainerDefaultName                 = "user-container"
	QueueContainerName                       = "queue-proxy"
	DefaultUserPort                    int32 = 8080
	DefaultUserPortName                      = "http"
)

// RoutingState values of the routingState label.
const (
	RoutingStatePending = "pending"
	RoutingStateActive  = "active"
	RoutingStateReserve = "reserve"
)

// Ports of the queue-proxy and activator (knative-semantics.md §5).
const (
	QueueHTTPPort               int32 = 8012
	QueueH2CPort                int32 = 8013
	QueueHTTPSPort              int32 = 8112
	QueueAdminPort              int32 = 8022
	AutoscalingQueueMetricsPort int32 = 9090
	UserQueueMetricsPort        int32 = 9091
	ProfilingPort               int32 = 8008
	ServiceHTTPPort             int32 = 80
	ServiceH2CPort              int32 = 81
	ServiceHTTPSPort            int32 = 443
)

// Autoscaling annotation keys (autoscaling.knative.dev, knative-semantics.md §2.2 table).
const (
	AutoscalingGroup                      = "autoscaling.knative.dev"
	ClassAnnotationKey                    = AutoscalingGroup + "/class"
	MinScaleAnnotationKey                 = AutoscalingGroup + "/min-scale"
	MaxScaleAnnotationKey                 = AutoscalingGroup + "/max-scale"
	InitialScaleAnnotationKey             = AutoscalingGroup + "/initial-scale"
	ActivationScaleAnnotationKey          = AutoscalingGroup + "/activation-scale"
	TargetAnnotationKey                   = AutoscalingGroup + "/target"
	TargetUtilizationAnnotationKey        = AutoscalingGroup + "/target-utilization-percentage"
	TargetBurstCapacityAnnotationKey      = AutoscalingGroup + "/target-burst-capacity"
	WindowAnnotationKey                   = AutoscalingGroup + "/window"
	PanicWindowPercentageAnnotationKey    = AutoscalingGroup + "/panic-window-percentage"
	PanicThresholdPercentageAnnotationKey = AutoscalingGroup + "/panic-threshold-percentage"
	ScaleDownDelayAnnotationKey           = AutoscalingGroup + "/scale-down-delay"
	ScaleToZeroPodRetentionAnnotationKey  = AutoscalingGroup + "/scale-to-zero-pod-retention-period"
	MetricAnnotationKey                   = AutoscalingGroup + "/metric"
	MetricAggregationAnnotationKey        = AutoscalingGroup + "/metric-aggregation-algorithm"

	KPAClass = "kpa.autoscaling.knative.dev"
	HPAClass = "hpa.autoscaling.knative.dev"

	MetricConcurrency = "concurrency"
	MetricRPS         = "rps"
	MetricCPU         = "cpu"
)

// Namespaces and names of the system components.
const (
	SystemNamespace            = "knative-serving"
	GatewayNamespace           = "kourier-system"
	ActivatorServiceName       = "activator-service"
	AutoscalerServiceName      = "autoscaler"
	ControllerServiceName      = "controller"
	WebhookServiceName         = "webhook"
	GatewayServiceName         = "kourier"
	GatewayInternalServiceName = "kourier-internal"
)

// Container port names, paths and probe headers of the revision pod and the SKS Services
// (knative-semantics.md §1.5, §3.6, §5).
const (
	UserPortName                    = "user-port"
	H2CPortName                     = "h2c"
	QueuePortName                   = "queue-port"
	QueueHTTPSPortName              = "https-port"
	QueueAdminPortName              = "queue-admin"
	AutoscalingQueueMetricsPortName = "http-autometric"
	UserQueueMetricsPortName        = "http-usermetric"
	ServicePortNameHTTP1            = "http"
	ServicePortNameH2C              = "http2"
	ServicePortNameHTTPS            = "https"
	QueueDrainPath                  = "/wait-for-drain"
	ProbeHeaderName                 = "K-Network-Probe"
	QueueProbeValue                 = "queue"
	ActivatorProbeValue             = "activator"
	AutoscalingProbeUserAgent       = "Knative-Autoscaling-Probe"
	HealthCheckPath                 = "/healthz"
)

// Labels the SKS reconciler puts on the Services it owns.
const (
	ServiceTypeKey     = "networking.internal.knative.dev/serviceType"
	ServiceTypePrivate = "Private"
	ServiceTypePublic  = "Public"
	SKSLabelKey        = "networking.internal.knative.dev/serverlessservice"
)

// Legacy camelCase spellings of the autoscaling annotations, still accepted (§2.2).
const (
	MinScaleAnnotationKeyAlternative                 = AutoscalingGroup + "/minScale"
	MaxScaleAnnotationKeyAlternative                 = AutoscalingGroup + "/maxScale"
	InitialScaleAnnotationKeyAlternative             = AutoscalingGroup + "/initialScale"
	TargetUtilizationAnnotationKeyAlternative        = AutoscalingGroup + "/targetUtilizationPercentage"
	TargetBurstCapacityAnnotationKeyAlternative      = AutoscalingGroup + "/targetBurstCapacity"
	PanicWindowPercentageAnnotationKeyAlternative    = AutoscalingGroup + "/panicWindowPercentage"
	PanicThresholdPercentageAnnotationKeyAlternative = AutoscalingGroup + "/panicThresholdPercentage"
	ScaleDownDelayAnnotationKeyAlternative           = AutoscalingGroup + "/scaleDownDelay"
	ScaleToZeroPodRetentionAnnotationKeyAlternative  = AutoscalingGroup + "/scaleToZeroPodRetentionPeriod"
	ActivationScaleAnnotationKeyAlternative          = AutoscalingGroup + "/activationScale"
)

// Headers the route's Ingress asks the gateway to match or append (knative-semantics.md §6).
const (
	RevisionHeaderName          = "Knative-Serving-Revision"
	RevisionNamespaceHeaderName = "Knative-Serving-Namespace"
	TagHeaderName               = "Knative-Serving-Tag"
	DefaultRouteHeaderName      = "Knative-Serving-Default-Route"
)

// The legacy spelling of metric-aggregation-algorithm and its values (§2.2 table).
const (
	MetricAggregationAnnotationKeyAlternative = AutoscalingGroup + "/metricAggregationAlgorithm"

	MetricAggregationLinear                 = "linear"
	MetricAggregationWeightedExponential    = "weighted-exponential"
	MetricAggregationWeightedExponentialAlt = "weightedExponential"
)

// Data-plane headers, values and User-Agents (knative-semantics.md §4 Forwarding, §5 Header
// names; net:pkg/http/header/header.go).
const (
	ProxyHeaderName          = "K-Proxy-Request"
	ProxyHeaderValue         = "activator"
	OriginalHostHeaderName   = "K-Original-Host"
	KubeletProbeHeaderName   = "K-Kubelet-Probe"
	HashHeaderName           = "K-Network-Hash"
	IngressProbeValue        = "probe"
	KubeProbeUserAgentPrefix = "kube-probe/"
	ActivatorProbeUserAgent  = "Knative-Activator-Probe"
	QueueProxyProbeUserAgent = "Knative-Queue-Proxy-Probe"
	IngressProbeUserAgent    = "Knative-Ingress-Probe"
)
