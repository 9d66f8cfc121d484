"""The bank of multiple-choice concept questions, written from every section of the notes.

Each item has a stable key (it goes into problem IDs), the section of the notes it tests, a
question, the correct answer, at least three wrong answers that a student who half-knows the
material might pick, and a sentence saying why the answer is right.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["BANK", "TOPICS", "Item"]

#: Sections of the notes, in the notes' order.
TOPICS = ("losses", "comparison", "optimization", "gd_variants", "momentum", "adaptive",
          "schedules", "backprop")


@dataclass(frozen=True)
class Item:
    """One question of the bank."""

    key: str
    topic: str
    stem: str
    correct: str
    distractors: tuple[str, ...]
    why: str


BANK: tuple[Item, ...] = (
    # -- 1-3. loss and cost functions ------------------------------------------------------
    Item("loss-vs-cost", "losses",
         "What is the difference between a loss function and a cost function?",
         "A loss measures the error on one data point; a cost averages (or sums) the losses "
         "over the whole dataset.",
         ("A loss is used during training and a cost only when the model is evaluated.",
          "A cost measures the error on one data point; a loss averages it over the dataset.",
          "A loss is always squared, while a cost may use absolute values.",
          "They are two names for the same quantity."),
         "The notes define the loss for a single data point and the cost as the average (or "
         "sum) of the losses over the entire dataset."),
    Item("squared-error-example", "losses",
         "A model predicts 0.8 for a point whose true value is 1.0. What is its squared-error "
         "loss?",
         "$0.04$", ("$0.2$", "$-0.2$", "$0.4$"),
         r"The squared error is $(0.8 - 1.0)^{2} = (-0.2)^{2} = 0.04$."),
    Item("mse-outliers", "losses",
         "Why is the mean squared error sensitive to outliers?",
         "Squaring makes a large error count far more than several small ones.",
         ("It divides by the number of points, so one point changes the mean a lot.",
          "Its gradient is constant, so an outlier pulls as hard as any other point.",
          "It takes the absolute value, which is not differentiable at an outlier.",
          "It only looks at the largest error in the dataset."),
         "An error of 10 contributes 100 to the squared error, as much as a hundred errors "
         "of 1: large errors dominate."),
    Item("mae-robust", "losses",
         "Why is the mean absolute error more robust to outliers than the mean squared error?",
         "Each error counts in proportion to its size, not its square.",
         ("It ignores every error larger than a threshold.",
          "It has a smooth gradient everywhere, including at zero error.",
          "It averages over more points than the mean squared error.",
          "It uses the logarithm of the error, which grows slowly."),
         r"$|y - \hat{y}|$ grows linearly with the error, so an outlier's weight in the cost is "
         "not magnified the way squaring magnifies it."),
    Item("mae-drawback", "losses",
         "What is the main drawback of the mean absolute error for gradient-based training?",
         "It is not smooth at zero error: its gradient jumps from $-1$ to $1$ there.",
         ("It is very sensitive to outliers.",
          "It can only be used with a sigmoid output.",
          "Its value can be negative.",
          "It needs the targets to be one-hot vectors."),
         r"The notes call MAE robust to outliers but less smooth for optimization: $|r|$ has a "
         "kink at $r = 0$ and a gradient of constant size elsewhere."),
    Item("huber-pieces", "losses",
         r"With threshold $\delta$, when does the Huber loss behave like the squared error?",
         r"When the error $|y - \hat{y}|$ is smaller than $\delta$.",
         (r"When the error $|y - \hat{y}|$ is larger than $\delta$.",
          "Always: the threshold only rescales the loss.",
          "Only when the prediction and the target have the same sign.",
          "Only for classification problems."),
         r"Huber is $\frac{1}{2}(y - \hat{y})^2$ for $|y - \hat{y}| < \delta$ and linear "
         "beyond, so it combines MSE for small errors with MAE for large ones."),
    Item("huber-why", "losses",
         "Why would you choose the Huber loss for a regression problem?",
         "The data may contain noisy points, and Huber is less sensitive to outliers than MSE "
         "while staying smooth near zero error.",
         ("It is the only loss whose minimum is at the median.",
          "It turns a regression problem into a classification problem.",
          "It needs no learning rate.",
          "It makes every gradient exactly 1 or -1."),
         "The notes list Huber as combining MSE and MAE, less sensitive to outliers than MSE, "
         "and used in regression when data may be noisy."),
    Item("bce-confident-wrong", "losses",
         "A binary classifier predicts a probability of 0.99 for class 1, but the true label "
         "is 0. What does binary cross-entropy do with this prediction?",
         r"It gives it a very large loss, $-\ln 0.01 \approx 4.6$, because it is confident and "
         "wrong.",
         ("It gives it a loss of at most 1, like every other wrong prediction.",
          "It ignores it, because the label is 0.",
          "It gives it a loss of $0.99$, the size of the mistake.",
          "It gives it a negative loss."),
         r"With $y = 0$ the loss is $-\ln(1 - \hat{y}) = -\ln 0.01 \approx 4.6$: binary "
         "cross-entropy penalizes wrong confident predictions heavily."),
    Item("bce-output", "losses",
         "Binary cross-entropy expects the network's output to be what?",
         "A probability strictly between 0 and 1, such as the output of a sigmoid.",
         ("Any real number, such as the output of a linear unit.",
          "A one-hot vector over the classes.",
          "A number between -1 and 1, such as the output of tanh.",
          "A whole number: the predicted class."),
         r"The loss takes $\log \hat{y}$ and $\log(1 - \hat{y})$: both must exist, so "
         r"$\hat{y}$ must lie in $(0, 1)$, which a sigmoid output guarantees."),
    Item("cce-onehot", "losses",
         "With a one-hot target, which term of the categorical cross-entropy is non-zero?",
         r"Only $-\log \hat{y}_k$ for the true class $k$.",
         ("The term of the class with the largest predicted probability.",
          "Every term: each class adds its own log-probability.",
          "The terms of all the wrong classes.",
          "None: the loss is zero whenever the target is one-hot."),
         r"$L = -\sum_k y_k \log \hat{y}_k$ and $y_k = 0$ for every class but the true one."),
    Item("hinge-margin", "losses",
         r"With labels $y \in \lbrace -1, 1 \rbrace$, when is the hinge loss "
         r"$\max(0, 1 - y \hat{y})$ exactly zero?",
         r"When $y \hat{y} \ge 1$: the point is classified correctly with a margin of at "
         "least 1.",
         (r"Whenever $\hat{y}$ has the same sign as $y$.",
          r"Only when $\hat{y} = y$ exactly.",
          r"When $y \hat{y} \le 0$.",
          "Never: the hinge loss is always positive."),
         "The hinge loss is margin-based: a correct prediction inside the margin "
         r"($0 < y \hat{y} < 1$) still has a positive loss."),
    Item("hinge-use", "losses",
         "Which kind of model is the hinge loss best known for?",
         "Support vector machines (maximum-margin classifiers).",
         ("Variational autoencoders.", "Linear regression.",
          "Language models that predict the next word."),
         "The notes list hinge loss as used for SVMs and sometimes neural networks."),
    Item("kl-measures", "losses",
         "What does the Kullback-Leibler divergence measure?",
         "How one probability distribution differs from another.",
         ("The distance between two points in feature space.",
          "The fraction of points a classifier gets wrong.",
          "The squared difference between a prediction and its target.",
          "The variance of a model's predictions."),
         r"$D_{KL}(P \parallel Q) = \sum P(x) \log \frac{P(x)}{Q(x)}$ compares distribution "
         "P with distribution Q."),
    Item("kl-asymmetric", "losses",
         r"Is $D_{KL}(P \parallel Q)$ equal to $D_{KL}(Q \parallel P)$?",
         "Not in general: the divergence is not symmetric, so the order matters.",
         ("Yes, always: it is a distance.",
          "Yes, whenever P and Q are probability distributions.",
          "Only when both distributions are uniform, and then both are 1."),
         "Swapping P and Q changes which distribution weights the log-ratio, so the two "
         "directions usually differ; that is why a problem must say which one it uses."),
    Item("label-smoothing", "losses",
         "What does label smoothing do to the targets of cross-entropy?",
         "It moves a little probability from the true class to the other classes, so that "
         "no target is exactly 0 or 1.",
         ("It rounds the predicted probabilities to one decimal.",
          "It removes the classes that are rarely correct.",
          "It averages the targets of neighbouring data points.",
          "It makes the true class's target larger than 1."),
         r"With smoothing $\varepsilon$ the target becomes $(1 - \varepsilon) y + "
         r"\varepsilon / K$; the notes say it helps prevent overconfident predictions."),
    # -- 4. the comparison table --------------------------------------------------------------
    Item("table-regression", "comparison",
         "Which group of losses do the notes recommend for regression?",
         "MSE, MAE or Huber.",
         ("Binary or categorical cross-entropy.", "Hinge loss or KL divergence.",
          "Label smoothing only."),
         "The notes' summary: pick MSE/MAE/Huber for regression, cross-entropy for "
         "classification."),
    Item("table-multiclass", "comparison",
         "A network must sort images into 10 classes. Which loss and output activation go "
         "together for this task?",
         "Categorical cross-entropy with a softmax output.",
         ("Binary cross-entropy with a linear output.",
          "Mean squared error with a softmax output.",
          "Hinge loss with a sigmoid output."),
         "The comparison table pairs categorical cross-entropy (multiclass classification) "
         "with a softmax output, which gives a probability for each class."),
    Item("table-binary", "comparison",
         "A network predicts whether an email is spam. Which output activation goes with "
         "binary cross-entropy?",
         "Sigmoid.", ("Softmax over a single unit.", "ReLU.", "Linear."),
         "The comparison table pairs binary cross-entropy with a sigmoid output: one "
         "probability for the positive class."),
    Item("table-regression-output", "comparison",
         "Which output activation do the notes pair with MSE, MAE and Huber?",
         "Linear (no squashing), so the output can take any real value.",
         ("Sigmoid, so the output stays between 0 and 1.", "Softmax.",
          "ReLU, so the output is never negative."),
         "Regression targets can be any real number, and the comparison table lists a linear "
         "output for all three regression losses."),
    Item("table-kl-use", "comparison",
         "Where is the KL divergence typically used, according to the notes?",
         "In probabilistic models such as variational autoencoders, and in NLP.",
         ("In linear regression with noisy data.", "In support vector machines.",
          "To measure the accuracy of a binary classifier."),
         "The table lists KL divergence for probabilistic models, used in VAEs, NLP and the "
         "like."),
    # -- 5. optimization basics ---------------------------------------------------------------
    Item("update-rule-sign", "optimization",
         r"Why is the update rule $\theta := \theta - \eta \nabla_\theta J(\theta)$ written "
         "with a minus sign?",
         "The gradient points in the direction in which the cost increases fastest, so the "
         "parameters move the opposite way.",
         ("Because the learning rate is always negative.",
          "Because the gradient of a cost is always negative.",
          "To keep the parameters between -1 and 1.",
          "To undo the previous update."),
         "Gradient descent steps against the gradient, the direction of steepest descent of "
         "the cost."),
    Item("lr-too-high", "optimization",
         "What typically happens when the learning rate is too high?",
         "The updates overshoot the minimum and the loss can diverge.",
         ("Training is stable but very slow.",
          "The model stops after one epoch.",
          "The gradients become exactly zero.",
          "The cost function changes its minimum."),
         "The notes: too high a learning rate leads to divergence (overshooting); too low to "
         "very slow learning."),
    Item("lr-too-low", "optimization",
         "What typically happens when the learning rate is too low?",
         "Learning is very slow: many updates are needed to reach the minimum.",
         ("The loss diverges to infinity.",
          "The updates oscillate wildly around the minimum.",
          "The model overfits after a single step.",
          "The gradient changes sign at every step."),
         "Small steps move the parameters only a little each time, so training takes many "
         "iterations."),
    Item("gradient-meaning", "optimization",
         "In the notes' optimization basics, what does the gradient of the loss with respect "
         "to a weight tell us?",
         "How the loss changes when that weight changes: the slope to follow downhill.",
         ("The size of the learning rate to use.",
          "The value the weight should have at the minimum.",
          "How many epochs training will need.",
          "Whether the model is overfitting."),
         "The gradient is the derivative of the loss with respect to the parameters; it tells "
         "us how to change the weights to reduce the error."),
    # -- 6-8. batch, stochastic and mini-batch gradient descent ------------------------------
    Item("batch-gd-data", "gd_variants",
         "How much data does batch (vanilla) gradient descent use for one update?",
         "The entire training set.",
         ("One randomly chosen example.", "A mini-batch of, say, 32 examples.",
          "Only the examples it got wrong in the previous epoch."),
         "Batch GD computes the gradient on the entire dataset before each update."),
    Item("batch-gd-con", "gd_variants",
         "What is the main drawback of batch gradient descent on a large dataset?",
         "Each update needs a pass over all the data, which is slow and memory hungry.",
         ("Its updates are very noisy.",
          "It cannot converge on a convex problem.",
          "It needs a learning-rate schedule to work at all.",
          "It only works with the hinge loss."),
         "The notes list batch GD as very slow for large datasets and memory expensive."),
    Item("sgd-noise", "gd_variants",
         "Why is the loss curve of stochastic gradient descent so noisy?",
         "Each update uses a single example, whose gradient differs from the full-data "
         "gradient.",
         ("Its learning rate is chosen at random at each step.",
          "It adds random noise to the weights on purpose.",
          "It skips the backward pass on half of the steps.",
          "It uses the absolute value of the gradient."),
         "SGD updates with one sample at a time, so each step follows that sample's gradient "
         "rather than the average one."),
    Item("sgd-benefit", "gd_variants",
         "What benefit can the noise of SGD bring?",
         "It can help the parameters escape shallow local minima.",
         ("It guarantees convergence to the global minimum.",
          "It removes the need for a learning rate.",
          "It makes every update exactly as good as a batch update.",
          "It reduces the number of parameters."),
         "The notes: updates are noisy, but this noise can help escape local minima."),
    Item("minibatch-compromise", "gd_variants",
         "Why is mini-batch gradient descent the usual choice in practice?",
         "It is more stable than SGD, faster per update than batch GD, and works well on "
         "GPUs.",
         ("It always uses the whole dataset, so it is exact.",
          "It needs no learning rate.",
          "It updates after every single example.",
          "It never needs more than one epoch."),
         "A mini-batch averages several examples' gradients (less noise than SGD) without "
         "waiting for the whole dataset, and batches parallelize well."),
    Item("minibatch-size", "gd_variants",
         "What goes wrong when the mini-batch is much too small?",
         "The updates become noisy, much like SGD.",
         ("Each update becomes slow, like batch GD.",
          "The model can no longer compute gradients.",
          "The learning rate must be set to zero.",
          "The cost function changes."),
         "The notes: choosing batch size is tricky: too small is noisy, too large is slow."),
    # -- 9. momentum and NAG ----------------------------------------------------------------------
    Item("momentum-idea", "momentum",
         "What does momentum add to gradient descent?",
         "A velocity that keeps a fraction of the previous update, smoothing the steps and "
         "speeding them up along a consistent direction.",
         ("A second learning rate for the biases.",
          "A separate learning rate for every parameter.",
          "A random perturbation of the gradient.",
          "A penalty on large weights."),
         r"With momentum $v_t = \beta v_{t-1} + \eta \nabla_\theta J$ and "
         r"$\theta := \theta - v_t$: the previous update is carried along."),
    Item("momentum-oscillation", "momentum",
         "In a long narrow valley, plain gradient descent zig-zags across the valley. How "
         "does momentum help?",
         "The back-and-forth components cancel in the velocity while the steady downhill "
         "component builds up.",
         ("It shrinks the learning rate whenever the gradient changes sign.",
          "It always steps exactly to the bottom of the valley.",
          "It ignores the gradient across the valley.",
          "It restarts training when it detects oscillation."),
         "The notes: momentum prevents oscillations and accelerates convergence."),
    Item("momentum-beta", "momentum",
         r"In $v_t = \beta v_{t-1} + \eta g_t$, what happens with $\beta = 0$?",
         "The velocity is just the scaled gradient: plain gradient descent.",
         ("The parameters stop moving.", "The update doubles at every step.",
          "The velocity never forgets its first value."),
         r"With $\beta = 0$ the previous velocity is dropped and $v_t = \eta g_t$."),
    Item("nag-lookahead", "momentum",
         "How does Nesterov accelerated gradient differ from plain momentum?",
         "It computes the gradient at the look-ahead point where the momentum is about to "
         "carry the parameters, not at the current point.",
         ("It uses no velocity at all.",
          "It computes the gradient twice at the same point and averages.",
          "It divides the step by the root of the squared gradients.",
          "It resets the velocity at every epoch."),
         "The notes: NAG looks ahead by applying momentum before computing the gradient."),
    # -- adaptive optimizers ----------------------------------------------------------------------
    Item("adagrad", "adaptive",
         "What does AdaGrad adapt, and for what kind of data is it known to work well?",
         "A learning rate for each parameter, shrinking with that parameter's accumulated "
         "squared gradients; good for sparse data such as text.",
         ("One global learning rate, raised whenever the loss falls; good for images.",
          "The batch size, grown over time; good for very large datasets.",
          "The momentum coefficient; good for noisy gradients."),
         "The notes: AdaGrad adapts the learning rate per parameter (good for sparse data, "
         "NLP)."),
    Item("adagrad-decay", "adaptive",
         "Why can AdaGrad's steps become very small late in training?",
         "It keeps adding squared gradients to its accumulator, so the divisor only grows.",
         ("It multiplies the learning rate by 0.9 every epoch.",
          "Its momentum term cancels the gradient.",
          "It uses the sign of the gradient only.",
          "Its bias correction divides by a growing number."),
         r"$G_t = G_{t-1} + g_t^2$ never decreases, so $\eta / \sqrt{G_t}$ keeps shrinking."),
    Item("rmsprop", "adaptive",
         "How does RMSprop change AdaGrad?",
         "It keeps a moving average of squared gradients instead of their sum, so old "
         "gradients are forgotten.",
         ("It adds a momentum term to AdaGrad's update.",
          "It takes the square root of the learning rate.",
          "It uses the gradient of the look-ahead point.",
          "It removes the epsilon from the denominator."),
         "The notes: RMSprop scales updates by a moving average of squared gradients."),
    Item("adam-combines", "adaptive",
         "Adam combines which two ideas?",
         "Momentum (a moving average of gradients) and RMSprop (a moving average of squared "
         "gradients).",
         ("AdaGrad and learning-rate warm restarts.",
          "Nesterov's look-ahead and batch gradient descent.",
          "Label smoothing and dropout.",
          "Huber's threshold and the hinge margin."),
         "The notes: Adam (Adaptive Moment Estimation) combines momentum + RMSprop."),
    Item("adam-bias-correction", "adaptive",
         r"Why does Adam divide its moment estimates by $1 - \beta_1^t$ and "
         r"$1 - \beta_2^t$?",
         "The moments start at 0, so early estimates are biased toward 0; the division "
         "corrects that bias.",
         ("To keep the learning rate below 1.",
          "To make the update independent of the gradient's sign.",
          "To slow down training in the first steps.",
          "To avoid dividing by zero when the gradient is zero."),
         r"With $m_0 = 0$, $m_1 = (1 - \beta_1) g_1$ is far smaller than $g_1$; dividing by "
         r"$1 - \beta_1^1$ gives back $g_1$. The correction fades as $t$ grows."),
    Item("epsilon-role", "adaptive",
         r"What is the small $\epsilon$ (such as $10^{-8}$) in AdaGrad, RMSprop and Adam "
         "for?",
         "It keeps the denominator from being zero when the squared-gradient average is "
         "zero.",
         ("It is the learning rate of the bias terms.",
          "It is the minimum step size allowed.",
          "It adds noise to help escape local minima.",
          "It is the tolerance at which training stops."),
         r"The update divides by $\sqrt{\cdot} + \epsilon$; without $\epsilon$ a parameter "
         "whose gradients were all zero would divide by zero."),
    # -- learning-rate scheduling --------------------------------------------------------------
    Item("decay-why", "schedules",
         "Why reduce the learning rate as training goes on?",
         "Large steps make fast progress early; smaller steps later let the parameters settle "
         "into a minimum instead of bouncing around it.",
         ("To make each epoch faster to compute.",
          "Because the gradients grow during training.",
          "To increase the noise of the updates.",
          "Because a constant learning rate cannot reduce the loss at all."),
         "The notes: decay gradually reduces the learning rate during training."),
    Item("warm-restarts", "schedules",
         "What do warm restarts do to the learning rate?",
         "They periodically reset it to its high starting value, for better exploration.",
         ("They set it to zero for one epoch.", "They keep it constant forever.",
          "They double it after every epoch.",
          "They reset the weights to their initial values."),
         "The notes: warm restarts periodically reset the learning rate for better "
         "exploration; SGDR anneals it with a cosine inside each cycle."),
    Item("step-decay", "schedules",
         r"With step decay $\eta_t = \eta_0 \gamma^{\lfloor t / s \rfloor}$, "
         r"$\eta_0 = 0.1$, $\gamma = 0.5$ and $s = 10$, what is the rate at epoch 25?",
         "$0.025$", ("$0.05$", "$0.0125$", "$0.1$"),
         r"$\lfloor 25 / 10 \rfloor = 2$ drops: $0.1 \cdot 0.5^{2} = 0.025$."),
    # -- 10. backpropagation --------------------------------------------------------------------
    Item("backprop-order", "backprop",
         "In which order does one training step of a network go?",
         "Forward pass, loss, backward pass, parameter update.",
         ("Backward pass, forward pass, loss, parameter update.",
          "Loss, forward pass, parameter update, backward pass.",
          "Parameter update, forward pass, backward pass, loss."),
         "The notes' flow: forward pass, loss calculation, backward pass (chain rule), "
         "parameter update."),
    Item("backprop-chain-rule", "backprop",
         "Which rule of calculus does backpropagation rest on?",
         "The chain rule.",
         ("The product rule alone.", "The quotient rule.",
          "Integration by parts."),
         r"$\frac{\partial L}{\partial w} = \frac{\partial L}{\partial a} \cdot "
         r"\frac{\partial a}{\partial z} \cdot \frac{\partial z}{\partial w}$, cascading "
         "backward through the layers."),
    Item("backprop-direction", "backprop",
         "In which direction does backpropagation compute the gradients?",
         "From the output layer backward to the first layer, reusing each layer's error for "
         "the layer before it.",
         ("From the inputs forward to the output, like the forward pass.",
          "Each layer on its own, in any order.",
          "Only for the output layer; hidden layers keep their weights."),
         "Each hidden delta is built from the deltas of the layer after it, so the output "
         "layer comes first."),
    Item("sigmoid-bce-delta", "backprop",
         "For a sigmoid output trained with binary cross-entropy, what is the output error "
         r"$\delta = \partial L / \partial z$?",
         r"$\hat{y} - y$.",
         (r"$(\hat{y} - y)\,\hat{y}(1 - \hat{y})$.", r"$-\frac{y}{\hat{y}}$.",
          r"$y - \hat{y}$."),
         r"$\frac{\partial L}{\partial \hat{y}} = \frac{\hat{y} - y}{\hat{y}(1 - \hat{y})}$ and "
         r"$\sigma'(z) = \hat{y}(1 - \hat{y})$: the factors cancel."),
    Item("sigmoid-derivative", "backprop",
         r"If $a = \sigma(z)$, what is $\sigma'(z)$?",
         r"$a(1 - a)$.", (r"$1 - a^2$.", r"$a$.", r"$\frac{1}{1 + e^{z}}$."),
         r"$\sigma'(z) = \sigma(z)(1 - \sigma(z))$; $1 - a^2$ is the derivative of tanh."),
    Item("old-weights", "backprop",
         "When computing the hidden deltas in the backward pass, which output weights do you "
         "use?",
         "The old weights, from before this step's update.",
         ("The new weights, after the update.",
          "The average of the old and the new weights.",
          "Whichever weights were updated last."),
         "All gradients of one step are taken at the same point, the parameters used in the "
         "forward pass; the update comes after the whole backward pass."),
    Item("bias-gradient", "backprop",
         r"For neuron $j$ with $z_j = \sum_i w_{ij} a_i + b_j$, what is "
         r"$\partial L / \partial b_j$?",
         r"$\delta_j$, the neuron's error.",
         (r"$\delta_j\, b_j$.", r"$\delta_j\, a_j$.", "Always 1."),
         r"$\partial z_j / \partial b_j = 1$, so $\partial L / \partial b_j = \delta_j$."),
)
