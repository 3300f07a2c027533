"""Which classes a Keras model config from an upload may name (an allowlist, checked as JSON).

A Keras config names the class of every layer, initializer, regularizer and constraint. Only
built-in, code-free classes are accepted; everything else is refused before any Keras code
deserializes the file: a ``Lambda`` layer carries marshalled Python bytecode, a custom class
would need the uploader's code, and a few built-ins load external code or files on their own
(``TFSMLayer`` loads another SavedModel, ``JaxLayer``/``FlaxLayer``/``TorchModuleWrapper`` wrap
foreign code). The lists were taken from tf_keras 2.21 and Keras 3.15 (``dir(keras.layers)``)
and are kept here as data so the check needs no TensorFlow.
"""
from __future__ import annotations

#: Layers both Keras versions ship (built-in, no code in their config).
COMMON_LAYERS = frozenset("""
Activation ActivityRegularization Add AdditiveAttention AlphaDropout Attention Average
AveragePooling1D AveragePooling2D AveragePooling3D AvgPool1D AvgPool2D AvgPool3D
BatchNormalization Bidirectional CategoryEncoding CenterCrop Concatenate Conv1D Conv1DTranspose
Conv2D Conv2DTranspose Conv3D Conv3DTranspose ConvLSTM1D ConvLSTM2D ConvLSTM3D Convolution1D
Convolution1DTranspose Convolution2D Convolution2DTranspose Convolution3D Convolution3DTranspose
Cropping1D Cropping2D Cropping3D Dense DepthwiseConv1D DepthwiseConv2D Discretization Dot Dropout
ELU EinsumDense Embedding Flatten GRU GRUCell GaussianDropout GaussianNoise
GlobalAveragePooling1D GlobalAveragePooling2D GlobalAveragePooling3D GlobalAvgPool1D
GlobalAvgPool2D GlobalAvgPool3D GlobalMaxPool1D GlobalMaxPool2D GlobalMaxPool3D
GlobalMaxPooling1D GlobalMaxPooling2D GlobalMaxPooling3D GroupNormalization HashedCrossing Hashing
Identity InputLayer IntegerLookup LSTM LSTMCell LayerNormalization LeakyReLU Masking MaxPool1D
MaxPool2D MaxPool3D MaxPooling1D MaxPooling2D MaxPooling3D Maximum Minimum MultiHeadAttention
Multiply Normalization PReLU Permute RNN RandomBrightness RandomContrast RandomCrop RandomFlip
RandomRotation RandomTranslation RandomZoom ReLU RepeatVector Rescaling Reshape Resizing
SeparableConv1D SeparableConv2D SeparableConvolution1D SeparableConvolution2D SimpleRNN
SimpleRNNCell Softmax SpatialDropout1D SpatialDropout2D SpatialDropout3D SpectralNormalization
StackedRNNCells StringLookup Subtract TextVectorization TimeDistributed UnitNormalization
UpSampling1D UpSampling2D UpSampling3D ZeroPadding1D ZeroPadding2D ZeroPadding3D
""".split())

#: Built-in Keras 3 layers that tf_keras does not have: safe to load with Keras 3, but a
#: model using one cannot be rebuilt in tf_keras (TFMOT then cannot transform it).
KERAS3_ONLY_LAYERS = frozenset("""
AdaptiveAveragePooling1D AdaptiveAveragePooling2D AdaptiveAveragePooling3D AdaptiveMaxPooling1D
AdaptiveMaxPooling2D AdaptiveMaxPooling3D AugMix AutoContrast
ContrastLimitedAdaptiveHistogramEqualization CutMix Equalization GroupQueryAttention
MaxNumBoundingBoxes MelSpectrogram MixUp Pipeline RMSNormalization RandAugment
RandomColorDegeneration RandomColorJitter RandomElasticTransform RandomErasing RandomGaussianBlur
RandomGrayscale RandomHue RandomInvert RandomPerspective RandomPosterization RandomSaturation
RandomSharpness RandomShear ReversibleEmbedding STFTSpectrogram Solarization
""".split())

#: Built-in tf_keras layers Keras 3 dropped.
TF_KERAS_ONLY_LAYERS = frozenset("""
LocallyConnected1D LocallyConnected2D RandomHeight RandomWidth ThresholdedReLU
TFOpLambda SlicingOpLambda
""".split())

MODELS = frozenset({"Functional", "Sequential", "Model"})

INITIALIZERS = frozenset("""
Constant GlorotNormal GlorotUniform HeNormal HeUniform Identity IdentityInitializer LecunNormal
LecunUniform Ones Orthogonal OrthogonalInitializer RandomNormal RandomUniform TruncatedNormal
VarianceScaling Zeros STFT STFTInitializer
""".split())
REGULARIZERS = frozenset({"L1", "L2", "L1L2", "OrthogonalRegularizer"})
CONSTRAINTS = frozenset({"MaxNorm", "MinMaxNorm", "NonNeg", "RadialConstraint", "UnitNorm"})
POLICIES = frozenset({"DTypePolicy", "FloatDTypePolicy", "Policy", "DTypePolicyMap"})
#: Markers Keras 3 uses inside configs for tensors, tuples and arrays (data, not classes).
MARKERS = frozenset({"__keras_tensor__", "__tuple__", "__numpy__", "__tensor__", "__bytes__",
                     "__slice__", "__ellipsis__"})

#: Built-ins that are refused anyway: they load code or files of their own.
CODE_LAYERS = frozenset({"Lambda", "__lambda__", "TFSMLayer", "JaxLayer", "FlaxLayer",
                         "TorchModuleWrapper", "DenseFeatures"})

#: Activation names a config may use (Keras 3 may write them as {"class_name": "function"}).
ACTIVATIONS = frozenset("""
celu elu exponential gelu glu hard_shrink hard_sigmoid hard_silu hard_swish hard_tanh leaky_relu
linear log_sigmoid log_softmax mish relu relu6 selu sigmoid silu soft_shrink softmax softplus
softsign sparse_plus sparsemax squareplus swish tanh tanh_shrink threshold
""".split())

#: TensorFlow functions a tf_keras ``TFOpLambda`` layer may call (it stores the function's API
#: name, e.g. "math.add" for ``x + y`` on Keras tensors). Only pure tensor math: a hostile
#: config must not reach ``io.write_file`` or ``raw_ops``.
TF_OP_PREFIXES = ("math.", "nn.", "__operators__.", "image.resize", "linalg.", "signal.")
TF_OPS = frozenset("""
reshape transpose concat stack unstack expand_dims squeeze split cast clip_by_value identity
compat.v1.transpose compat.v1.squeeze compat.v1.gather gather gather_nd tile pad where shape
ones_like zeros_like broadcast_to maximum minimum abs sqrt square exp reduce_mean reduce_sum
reduce_max reduce_min matmul einsum sigmoid tanh one_hot range slice strided_slice
""".split())

LAYERS = COMMON_LAYERS | KERAS3_ONLY_LAYERS | TF_KERAS_ONLY_LAYERS
ALLOWED = LAYERS | MODELS | INITIALIZERS | REGULARIZERS | CONSTRAINTS | POLICIES | MARKERS


def tf_op_allowed(name: str) -> bool:
    """True when a ``TFOpLambda``'s function name is plain tensor math (see ``TF_OPS``)."""
    name = str(name or "")
    return name in TF_OPS or any(name.startswith(p) for p in TF_OP_PREFIXES)
